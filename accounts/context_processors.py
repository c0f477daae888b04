def teams(request):
    """The current team and the user's teams, for the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"current_team": user.get_current_team(), "user_teams": list(user.teams())}

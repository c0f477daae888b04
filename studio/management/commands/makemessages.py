"""makemessages that also finds `_lazy(...)`, the name our forms give gettext_lazy beside `_`."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_lazy"]

"""Words of Django's admin that its own zh_Hans catalog leaves in English.

Django 5.2's admin templates use a few messages its Chinese catalog has not
caught up with (the index's table headers for screen readers, the error
prefix of forms, the login page's reset link). Marking them here puts them in
our catalog, which Django reads before its own (LOCALE_PATHS), so a Chinese
page has no English left. Nothing imports this module; `make messages` reads it.
"""

from django.utils.translation import gettext_noop

DJANGO_WORDS = [
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("In case you’ve forgotten, you are:"),
]

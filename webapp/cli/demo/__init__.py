"""The demo data set behind ``flask --app wsgi demo``, one module per job.  It is no part of
the application: only the ``demo`` command imports it.  Import from the module that does the
job; this package re-exports nothing.

* :mod:`~webapp.cli.demo.dataset` — what the demo holds: users, scope, groups, tags,
  resources and the plan of their assignments (deterministic);
* :mod:`~webapp.cli.demo.loader` — load it once, in one change set, through the services;
* :mod:`~webapp.cli.demo.summary` — print what was loaded and the demo logins.
"""

"""Customer groups (a building, an estate, an industrial park) and their types: keeping
them, their members, and who may do which (the views are in :mod:`webapp.web.groups`;
the rules read membership through :mod:`webapp.classification.groups`)."""

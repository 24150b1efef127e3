"""The HTTP layer: the app factory (``pulso.api.app.create_app``), dependencies, domain errors, JSON
endpoints. No SQL here: endpoints call services and metric query objects."""

"""Intake: public self-registration, district submissions and the review queue."""


def init_app(app) -> None:
    from registry.intake import operations, views
    from registry.people.signals import person_submitted

    app.register_blueprint(views.bp)
    person_submitted.connect(operations.on_person_submitted)
    operations.register_own_sources()

"""Commands for setting up accounts without the web interface."""
import click
import pyotp
from flask import current_app
from flask.cli import with_appcontext

from registry.accounts import operations, roles
from registry.core.cli import registry_cli
from registry.core.errors import BadInput
from registry.extensions import db


def init_app(app) -> None:
    """Add the account commands to `flask registry`."""
    registry_cli.add_command(create_user_command)
    registry_cli.add_command(totp_code_command)
    registry_cli.add_command(create_demo_staff_command)


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(roles.ROLES),
              help="The account's role.")
@click.option("--area", "area_codes", multiple=True, metavar="CODE",
              help="A current unit code or a former district code; repeatable.")
@click.option("--name", default=None, help="Full name; the e-mail name if left out.")
@with_appcontext
def create_user_command(email: str, role: str, area_codes: tuple[str, ...],
                        name: str | None) -> None:
    """Create a staff account and print its one-time password."""
    if role == roles.DISTRICT and not area_codes:
        raise click.UsageError("A district official needs at least one --area.")
    try:
        areas = [operations.area_for_code(code) for code in area_codes]
        user, one_time = operations.create_user(
            email, role, name or email.partition("@")[0], areas)
        secret = (operations.provision_two_factor(user)
                  if role in roles.TWO_FACTOR_REQUIRED else None)
    except BadInput as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    _print_account(user, one_time, secret)


@click.command("totp-code")
@click.argument("email")
@with_appcontext
def totp_code_command(email: str) -> None:
    """Print the current two-factor code of an account (development only)."""
    if not current_app.config.get("DEVELOPMENT_TOOLS"):
        raise click.ClickException("totp-code is a development tool; it is off here.")
    user = operations.find_user(email)
    if user is None or not user.totp_secret:
        raise click.ClickException(f"{email} has no two-factor secret.")
    click.echo(pyotp.TOTP(user.totp_secret).now())


# One account per role for trying the registry out; Hoằng Hóa is a former district.
DEMO_STAFF = (
    ("admin@example.test", roles.ADMIN, "Quản trị viên (demo)", ()),
    ("officer@example.test", roles.OFFICER, "Cán bộ Sở Ngoại vụ (demo)", ()),
    ("police@example.test", roles.POLICE, "Cán bộ Công an tỉnh (demo)", ()),
    ("district@example.test", roles.DISTRICT, "Cán bộ huyện Hoằng Hóa cũ (demo)", ("399",)),
    ("viewer@example.test", roles.VIEWER, "Sở Kế hoạch (demo)", ()),
)


@click.command("create-demo-staff")
@click.option("--reset-admin", is_flag=True,
              help="Issue a new one-time password for the demo admin if it exists.")
@with_appcontext
def create_demo_staff_command(reset_admin: bool) -> None:
    """Create one demo account per role (development only) and print how to sign in."""
    if not current_app.config.get("DEVELOPMENT_TOOLS"):
        raise click.ClickException("create-demo-staff is a development tool; it is off here.")
    printed = []
    for email, role, name, area_codes in DEMO_STAFF:
        user = operations.find_user(email)
        if user is None:
            areas = [operations.area_for_code(code) for code in area_codes]
            user, one_time = operations.create_user(email, role, name, areas)
            secret = operations.provision_two_factor(user)
            printed.append((user, one_time, secret))
        elif reset_admin and role == roles.ADMIN:
            secret = user.totp_secret if user.is_totp_confirmed else \
                operations.provision_two_factor(user)
            printed.append((user, operations.reset_password(user), secret))
    db.session.commit()
    for user, one_time, secret in printed:
        _print_account(user, one_time, secret)
        click.echo(f"  current code: flask --app wsgi registry totp-code {user.email}\n")


def _print_account(user, one_time: str, secret: str | None) -> None:
    click.echo(f"Created {user.email} ({user.role}).")
    click.echo(f"One-time password: {one_time}")
    click.echo("It must be changed at the first sign-in.")
    if secret is None:
        return
    click.echo("Two-factor sign-in is required for this role. Add this account to an")
    click.echo("authenticator app now or at the first sign-in, which asks for a code:")
    click.echo(f"  {operations.otpauth_uri(user, secret)}")
    click.echo(f"  secret: {secret}")

"""Creating and changing staff accounts, and the steps of signing in."""
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

import pyotp
from flask import current_app, session
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from sqlalchemy import delete, func, select

from registry.accounts import passwords, roles
from registry.accounts.models import (
    AREA_COMMUNE,
    AREA_FORMER_DISTRICT,
    LoginFailure,
    User,
    UserArea,
)
from registry.audit import operations as audit
from registry.core.errors import BadInput
from registry.core.text import nfc
from registry.core.time import utcnow
from registry.extensions import db
from registry.places.models import FormerDistrict, Unit

log = logging.getLogger(__name__)

# Session keys. Flask-Login's own "_user_id" holds User.get_id().
SESSION_LOGIN_AT = "auth_login_at"  # epoch seconds of the password step
SESSION_SEEN_AT = "auth_seen_at"  # epoch seconds of the latest request
SESSION_CODE_OK = "auth_code_ok"  # the two-factor code of this sign-in was accepted
SESSION_COMPLETE = "auth_complete"  # every sign-in step is done
SESSION_NEXT = "auth_next"  # where to go once signed in
SESSION_PENDING_SECRET = "auth_totp_pending"  # a secret shown for enrolment, not yet confirmed
AUTH_KEYS = ("_user_id", "_fresh", "_id", "_remember", SESSION_LOGIN_AT, SESSION_SEEN_AT,
             SESSION_CODE_OK, SESSION_COMPLETE, SESSION_NEXT, SESSION_PENDING_SECRET)

# Steps that may stand between the password and a full session, in this order.
STEP_CODE = "code"
STEP_PASSWORD = "password"
STEP_ENROL = "enrol"

ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
MAX_FAILURES_PER_ADDRESS = 30
FAILURE_RETENTION = timedelta(days=1)  # the audit trail keeps them for longer


class SignInRefused(Exception):
    """A sign-in step that failed; message is safe to show."""

    def __init__(self, message: str, throttled: bool = False):
        super().__init__(message)
        self.message = message
        self.throttled = throttled


# Accounts


def create_user(email: str, role: str, full_name: str, areas: list[tuple[str, str]],
                password: str | None = None) -> tuple[User, str | None]:
    """Create an account; return it and its one-time password when none was given."""
    email = normalise_email(email)
    _check_new_email(email)
    _check_role_and_areas(role, areas)
    one_time = None if password else _one_time_password()
    if password:
        _check_password(password, email)

    user = User(email=email, full_name=nfc(full_name), role=role,
                password_hash=passwords.hash_password(password or one_time),
                must_change_password=password is None, session_token=_new_token())
    user.areas = [UserArea(kind=kind, code=code) for kind, code in areas]
    db.session.add(user)
    db.session.flush()

    audit.record("user.create", user, details=_snapshot(user))
    log.info("User %s created with role %s", user.id, role)
    return user, one_time


def update_user(user: User, role: str, full_name: str, areas: list[tuple[str, str]],
                actor: User | None = None) -> User:
    """Change user's role, name and areas."""
    _check_role_and_areas(role, areas)
    if actor is not None and actor.id == user.id and role != user.role:
        raise BadInput(_("You cannot change your own role."), field="role")
    before = _snapshot(user)

    user.role = role
    user.full_name = nfc(full_name)
    if _area_keys(areas) != before["areas"]:
        user.areas = [UserArea(kind=kind, code=code) for kind, code in areas]
    changes = audit.diff(before, _snapshot(user))
    if not changes:
        return user

    if "role" in changes:
        _rotate_token(user)  # the new role may need two-factor sign-in first
    db.session.flush()
    audit.record("user.update", user, details=changes)
    log.info("User %s changed: %s", user.id, ", ".join(sorted(changes)))
    return user


def set_active(user: User, active: bool, actor: User | None = None) -> None:
    """Let user sign in again, or stop them and end their sessions."""
    if not active and actor is not None and actor.id == user.id:
        raise BadInput(_("You cannot deactivate your own account."))
    if user.is_active_account == active:
        return

    user.is_active_account = active
    _rotate_token(user)
    db.session.flush()

    audit.record("user.activate" if active else "user.deactivate", user)
    log.info("User %s %s", user.id, "activated" if active else "deactivated")


def reset_password(user: User) -> str:
    """Give user a one-time password, end their sessions, and return it."""
    one_time = _one_time_password()
    user.password_hash = passwords.hash_password(one_time)
    user.must_change_password = True
    _rotate_token(user)
    db.session.flush()

    audit.record("user.password_reset", user)
    log.info("Password of %s reset", user.id)
    return one_time


def reset_two_factor(user: User) -> None:
    """Forget user's authenticator so that they enrol again, ending their sessions."""
    user.totp_secret = None
    user.is_totp_confirmed = False
    user.totp_last_step = None
    _rotate_token(user)
    db.session.flush()

    audit.record("user.totp_reset", user)
    log.info("Two-factor sign-in of %s reset", user.id)


def force_sign_out(user: User) -> None:
    """End every session of user."""
    _rotate_token(user)
    db.session.flush()

    audit.record("user.sign_out_all", user)
    log.info("All sessions of %s ended", user.id)


def provision_two_factor(user: User) -> str:
    """Give user a new authenticator secret, to be confirmed at first sign-in; return it."""
    user.totp_secret = pyotp.random_base32()
    user.is_totp_confirmed = False
    user.totp_last_step = None
    db.session.flush()

    audit.record("user.totp_issue", user)
    log.info("Two-factor secret issued for %s", user.id)
    return user.totp_secret


def set_language(user: User, lang: str) -> None:
    """Store user's interface language and switch to it now."""
    if lang not in current_app.config["LANGUAGES"]:
        raise BadInput(_("Choose one of the offered languages."), field="preferred_lang")
    session["lang"] = lang
    if user.preferred_lang == lang:
        return

    audit.record("user.update", user, details={"preferred_lang": [user.preferred_lang, lang]})
    user.preferred_lang = lang
    db.session.flush()
    log.info("User %s chose language %s", user.id, lang)


# Reading accounts and places


def normalise_email(email: str) -> str:
    """Return email trimmed and in lower case, the form accounts are stored in."""
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    """Return the account with email, or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(user_id: int) -> User:
    """Return the account with user_id; raise 404 when there is none."""
    return db.get_or_404(User, user_id)


def display_name(user_id: int) -> str:
    """Return the name to show for the account user_id, even a removed one."""
    user = db.session.get(User, user_id)
    return user.full_name if user else _("account %(id)s", id=user_id)


def list_users() -> list[User]:
    """Return every account, ordered by e-mail address."""
    return list(db.session.scalars(select(User).order_by(User.email)))


def commune_choices() -> list[tuple[str, str]]:
    """Return (code, name) of every current commune-level unit, by name."""
    from registry.places import operations as places

    return places.unit_choices()


def former_district_choices() -> list[tuple[str, str]]:
    """Return (code, name) of every district abolished in 2025, by name."""
    rows = db.session.execute(select(FormerDistrict.code, FormerDistrict.kind,
                                     FormerDistrict.name)
                              .order_by(FormerDistrict.name_folded))
    return [(code, kind + " " + name) for code, kind, name in rows]


def area_names() -> dict[tuple[str, str], str]:
    """Return the display name of every area, keyed by (kind, code)."""
    names = {(AREA_COMMUNE, code): name for code, name in commune_choices()}
    names.update({(AREA_FORMER_DISTRICT, code): name
                  for code, name in former_district_choices()})
    return names


def area_for_code(code: str) -> tuple[str, str]:
    """Return (kind, code) for a current unit code or a former district code."""
    code = (code or "").strip()
    is_unit = db.session.get(Unit, code) is not None
    is_district = db.session.get(FormerDistrict, code) is not None
    if is_unit == is_district:
        message = (_("The code %(code)s is both a commune and a former district.", code=code)
                   if is_unit else _("There is no unit or former district %(code)s.", code=code))
        raise BadInput(message, field="areas")
    return (AREA_COMMUNE, code) if is_unit else (AREA_FORMER_DISTRICT, code)


# Passwords


def change_password(user: User, current: str, new: str) -> str | None:
    """Replace user's password, end their other sessions; return the next sign-in step."""
    if not passwords.verify(user.password_hash, current):
        raise BadInput(_("The current password is not correct."), field="current_password")
    if new == current:
        raise BadInput(_("Choose a password different from the current one."),
                       field="new_password")
    _check_password(new, user.email)

    user.password_hash = passwords.hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    _rotate_token(user)
    db.session.flush()
    login_user(user)  # this session takes the new token; the others are now stale

    audit.record("user.password_change", user)
    log.info("User %s changed their password", user.id)
    return advance(user)


def _check_password(password: str, email: str) -> None:
    reason = passwords.problem(password, email)
    if reason:
        raise BadInput(reason, field="new_password")


def _one_time_password() -> str:
    groups = ("".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


# Signing in


def log_in(email: str, password: str, address: str | None,
           next_url: str | None = None) -> str | None:
    """Check e-mail and password and start a session; return the next step, if any."""
    email = normalise_email(email)
    address = address or "unknown"
    _refuse_if_throttled(email, address)

    user = find_user(email)
    matches = passwords.verify(user.password_hash if user else None, password)
    if not (matches and user.is_active_account):
        reason = "unknown" if user is None else ("password" if not matches else "inactive")
        _record_failure(email, address, reason, user)
        raise SignInRefused(_("The e-mail address or password is not correct."))

    _upgrade_hash(user, password)
    _start_session(user, next_url)
    return advance(user)


def check_code(user: User, code: str, address: str | None) -> str | None:
    """Accept the two-factor code of this sign-in; return the next step, if any."""
    address = address or "unknown"
    _refuse_if_throttled(user.email, address)
    if not _accept_code(user, user.totp_secret, code):
        _record_failure(user.email, address, "code", user)
        raise SignInRefused(_("The code is not correct or has already been used."))

    session[SESSION_CODE_OK] = True
    db.session.flush()
    return advance(user)


def enrolment_secret(user: User) -> str:
    """Return the secret to show for enrolment, keeping it until it is confirmed."""
    if user.totp_secret and not user.is_totp_confirmed:
        return user.totp_secret  # issued by an administrator on the command line
    if not session.get(SESSION_PENDING_SECRET):
        session[SESSION_PENDING_SECRET] = pyotp.random_base32()
    return session[SESSION_PENDING_SECRET]


def otpauth_uri(user: User, secret: str) -> str:
    """Return the otpauth:// address that authenticator apps read."""
    issuer = current_app.config["TOTP_ISSUER"]
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def confirm_enrolment(user: User, code: str) -> str | None:
    """Turn on two-factor sign-in once code proves the app works; return the next step."""
    secret = enrolment_secret(user)
    if not _accept_code(user, secret, code):
        raise BadInput(_("The code is not correct. Check the time on your phone and try "
                         "again."), field="code")

    user.totp_secret = secret
    user.is_totp_confirmed = True
    session[SESSION_CODE_OK] = True
    session.pop(SESSION_PENDING_SECRET, None)
    db.session.flush()

    audit.record("user.totp_enable", user)
    log.info("User %s turned on two-factor sign-in", user.id)
    return advance(user)


def disable_two_factor(user: User, code: str) -> None:
    """Turn off optional two-factor sign-in after checking a current code."""
    if user.role in roles.TWO_FACTOR_REQUIRED:
        raise BadInput(_("Your role must use two-factor sign-in."), field="code")
    if not user.is_totp_confirmed or not _accept_code(user, user.totp_secret, code):
        raise BadInput(_("The code is not correct or has already been used."), field="code")

    user.totp_secret = None
    user.is_totp_confirmed = False
    db.session.flush()

    audit.record("user.totp_disable", user)
    log.info("User %s turned off two-factor sign-in", user.id)


def pending_step(user: User) -> str | None:
    """Return the sign-in step user must take next in this session, or None."""
    if session.get(SESSION_COMPLETE):
        return None
    if user.is_totp_confirmed and not session.get(SESSION_CODE_OK):
        return STEP_CODE
    if user.must_change_password:
        return STEP_PASSWORD
    if user.role in roles.TWO_FACTOR_REQUIRED and not user.is_totp_confirmed:
        return STEP_ENROL
    return None


def advance(user: User) -> str | None:
    """Return the next sign-in step, completing the sign-in when none is left."""
    step = pending_step(user)
    if step is None and not session.get(SESSION_COMPLETE):
        _complete_sign_in(user)
    return step


def is_signed_in() -> bool:
    """Tell whether this session has passed every sign-in step."""
    return bool(session.get(SESSION_COMPLETE)) and "_user_id" in session


def take_next_url() -> str | None:
    """Return, once, the page asked for before signing in."""
    return session.pop(SESSION_NEXT, None)


def is_throttled(email: str, address: str) -> bool:
    """Tell whether too many sign-ins failed lately for email or from address."""
    config = current_app.config
    since = utcnow() - config["LOGIN_FAILURE_WINDOW"]
    limit_address = config.get("LOGIN_MAX_FAILURES_PER_ADDRESS", MAX_FAILURES_PER_ADDRESS)
    return (_failures_since(LoginFailure.email == email, since) >= config["LOGIN_MAX_FAILURES"]
            or _failures_since(LoginFailure.address == address, since) >= limit_address)


def _failures_since(condition, since) -> int:
    query = select(func.count(LoginFailure.id)).where(condition, LoginFailure.failed_at >= since)
    return db.session.scalar(query)


def _refuse_if_throttled(email: str, address: str) -> None:
    if not is_throttled(email, address):
        return
    audit.record("login.throttled", details={"email": email})
    log.warning("Sign-in for account key %s from %s refused: too many failures",
                _account_key(email), address)
    minutes = int(current_app.config["LOGIN_FAILURE_WINDOW"].total_seconds() // 60)
    raise SignInRefused(_("Too many failed sign-in attempts. Please wait %(minutes)d minutes "
                          "and try again.", minutes=minutes), throttled=True)


def _account_key(email: str) -> str:
    # Logs carry no personal data: a short digest lets operators correlate lines.
    return hashlib.sha256(email.encode()).hexdigest()[:10]


def _record_failure(email: str, address: str, reason: str, user: User | None) -> None:
    now = utcnow()
    db.session.add(LoginFailure(email=email, address=address[:64], failed_at=now))
    cutoff = now - max(FAILURE_RETENTION, current_app.config["LOGIN_FAILURE_WINDOW"])
    db.session.execute(delete(LoginFailure).where(LoginFailure.failed_at < cutoff))
    db.session.flush()

    audit.record("login.failed", user, details={"email": email, "reason": reason})
    log.warning("Sign-in failed for account key %s from %s (%s)", _account_key(email),
                address, reason)


def _accept_code(user: User, secret: str | None, code: str) -> bool:
    code = "".join((code or "").split())
    if not secret or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(utcnow())
    last = user.totp_last_step if user.totp_last_step is not None else -1
    # One step either side allows for a phone clock a little off; a step once
    # accepted, and any before it, never works again.
    for step in (current - 1, current, current + 1):
        if step > last and hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def _upgrade_hash(user: User, password: str) -> None:
    if not passwords.needs_rehash(user.password_hash):
        return
    user.password_hash = passwords.hash_password(password)
    log.info("Password hash of %s renewed with current parameters", user.id)


def _start_session(user: User, next_url: str | None) -> None:
    for key in AUTH_KEYS:
        session.pop(key, None)
    login_user(user)
    now = _now_seconds()
    # A language chosen on the sign-in page wins over the stored preference.
    session.update({SESSION_LOGIN_AT: now, SESSION_SEEN_AT: now, SESSION_NEXT: next_url,
                    "lang": session.get("lang") or user.preferred_lang})
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))


def _complete_sign_in(user: User) -> None:
    session[SESSION_COMPLETE] = True
    user.last_login_at = utcnow()
    db.session.flush()

    audit.record("login.success", user, actor=user)
    log.info("User %s signed in", user.id)


# Sessions


def session_markers(user: User) -> dict:
    """Return the session entries of a user signed in just now, every step done."""
    now = _now_seconds()
    return {"_user_id": user.get_id(), "_fresh": True, SESSION_LOGIN_AT: now,
            SESSION_SEEN_AT: now, SESSION_CODE_OK: True, SESSION_COMPLETE: True}


def session_end_reason() -> str | None:
    """Return why the session in this request must end ("idle", "absolute"), or None."""
    login_at, seen_at = session.get(SESSION_LOGIN_AT), session.get(SESSION_SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return "unknown"
    config, now = current_app.config, _now_seconds()
    if now - seen_at > config["SESSION_IDLE_TIMEOUT"].total_seconds():
        return "idle"
    if now - login_at > config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds():
        return "absolute"
    return None


def touch_session() -> None:
    """Note that the session was used now, for the idle timeout."""
    session[SESSION_SEEN_AT] = _now_seconds()


def end_session(reason: str) -> None:
    """End this session only (timeout, stale token); other sessions stay."""
    user_id = str(session.get("_user_id", "")).partition(":")[0]
    # Nothing has changed yet in this request: a fresh transaction lets SQLite take the
    # write lock for the audit row instead of upgrading the read that loaded the user.
    db.session.rollback()
    logout_user()
    for key in AUTH_KEYS:
        session.pop(key, None)

    audit.record("session.end", object_type="user_account", object_id=user_id or None,
                 details={"reason": reason})
    log.info("Session of user %s ended (%s)", user_id or "?", reason)


def sign_out(user: User) -> None:
    """Sign user out; their token changes, since a copied cookie would outlive this one."""
    _rotate_token(user)
    db.session.flush()
    audit.record("logout", user, actor=user)
    log.info("User %s signed out", user.id)

    logout_user()
    for key in AUTH_KEYS:
        session.pop(key, None)


def _now_seconds() -> int:
    return int(utcnow().timestamp())


def _rotate_token(user: User) -> None:
    user.session_token = _new_token()


def _new_token() -> str:
    return secrets.token_urlsafe(32)


# Checks and snapshots


def _check_new_email(email: str) -> None:
    if "@" not in email or len(email) > 254:
        raise BadInput(_("Enter a valid e-mail address."), field="email")
    if find_user(email) is not None:
        raise BadInput(_("An account with this e-mail address already exists."), field="email")


def _check_role_and_areas(role: str, areas: list[tuple[str, str]]) -> None:
    if role not in roles.ROLES:
        raise BadInput(_("Choose one of the offered roles."), field="role")
    if areas and role != roles.DISTRICT:
        raise BadInput(_("Only district or commune officials are given areas."),
                       field="areas")
    for kind, code in areas:
        model = {AREA_COMMUNE: Unit, AREA_FORMER_DISTRICT: FormerDistrict}.get(kind)
        if model is None or db.session.get(model, code) is None:
            raise BadInput(_("There is no unit or former district %(code)s.", code=code),
                           field="areas")


def _snapshot(user: User) -> dict:
    areas = [(area.kind, area.code) for area in user.areas]
    return {"email": user.email, "role": user.role, "full_name": user.full_name,
            "areas": _area_keys(areas)}


def _area_keys(areas) -> list[str]:
    return sorted(f"{kind}:{code}" for kind, code in areas)

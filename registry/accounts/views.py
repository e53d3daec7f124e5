"""Sign-in pages, the own account page, and the staff administration."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.accounts import forms, operations, roles
from registry.accounts.access import STEP_ENDPOINTS, requires, signed_in
from registry.core.errors import BadInput
from registry.core.security import safe_next
from registry.core.setup import keep_changes_on_error
from registry.extensions import limiter

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT", "20 per minute; 200 per hour")


# Signing in


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Show the sign-in form and check the e-mail address and password."""
    if operations.is_signed_in():
        return redirect(url_for("core.home"))
    form = forms.LoginForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form)

    next_url = safe_next(request.args.get("next"))
    try:
        step = operations.log_in(form.email.data, form.password.data,
                                 request.remote_addr, next_url)
    except operations.SignInRefused as refusal:
        return _refused("accounts/login.html", form, refusal)
    return _continue(step)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@login_required
def two_factor():
    """Ask for the code of the authenticator app, after the password."""
    if operations.pending_step(current_user) != operations.STEP_CODE:
        return _continue(operations.pending_step(current_user))
    form = forms.CodeForm()
    if not form.validate_on_submit():
        return render_template("accounts/two_factor.html", form=form)

    try:
        step = operations.check_code(_me(), form.code.data, request.remote_addr)
    except operations.SignInRefused as refusal:
        return _refused("accounts/two_factor.html", form, refusal)
    return _continue(step)


@bp.post("/logout")
def logout():
    """Sign out and return to the sign-in page."""
    if current_user.is_authenticated:
        operations.sign_out(_me())
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


# The own account


@bp.get("/account")
@signed_in
def account():
    """Show the own account: role, areas, two-factor status, language."""
    return _account_page()


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Let the user choose a new password; required after a one-time password."""
    form = forms.ChangePasswordForm()
    if not form.validate_on_submit():
        return render_template("accounts/change_password.html", form=form)

    after = "accounts.account" if operations.is_signed_in() else "core.home"
    try:
        step = operations.change_password(_me(), form.current_password.data,
                                          form.new_password.data)
    except BadInput as error:
        _show_error(form, error)
        return render_template("accounts/change_password.html", form=form)
    flash(_("Your password has been changed. Other sessions have been signed out."),
          "success")
    return _continue(step, default=after)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Show the authenticator secret and turn two-factor sign-in on with a code."""
    if current_user.is_totp_confirmed:
        flash(_("Two-factor sign-in is already on."), "info")
        return redirect(url_for("accounts.account"))
    form = forms.CodeForm()
    if not form.validate_on_submit():
        return _setup_page(form)

    after = "accounts.account" if operations.is_signed_in() else "core.home"
    try:
        step = operations.confirm_enrolment(_me(), form.code.data)
    except BadInput as error:
        _show_error(form, error)
        return _setup_page(form)
    flash(_("Two-factor sign-in is now on."), "success")
    return _continue(step, default=after)


@bp.post("/account/two-factor/disable")
@signed_in
def disable_two_factor():
    """Turn optional two-factor sign-in off after a current code."""
    form = forms.CodeForm()
    if not form.validate_on_submit():
        return _account_page(disable_form=form)

    try:
        operations.disable_two_factor(_me(), form.code.data)
    except BadInput as error:
        _show_error(form, error)
        return _account_page(disable_form=form)
    flash(_("Two-factor sign-in is now off."), "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/language")
@signed_in
def language():
    """Store the preferred interface language."""
    form = forms.LanguageForm()
    if not form.validate_on_submit():
        return _account_page(language_form=form)

    operations.set_language(_me(), form.preferred_lang.data)
    flash(_("Your language has been saved."), "success")
    return redirect(url_for("accounts.account"))


# Staff administration


@bp.get("/staff/")
@requires("users.manage")
def users():
    """List every staff account."""
    return render_template("accounts/users.html", users=operations.list_users(),
                           area_names=operations.area_names(), role_labels=roles.ROLE_LABELS)


@bp.route("/staff/new", methods=["GET", "POST"])
@requires("users.manage")
def new_user():
    """Create a staff account and show its one-time password once."""
    form = forms.NewUserForm()
    if not form.validate_on_submit():
        return render_template("accounts/user_form.html", form=form, user=None)

    try:
        user, one_time = operations.create_user(form.email.data, form.role.data,
                                                form.full_name.data, form.areas())
    except BadInput as error:
        _show_error(form, error)
        return render_template("accounts/user_form.html", form=form, user=None)
    return render_template("accounts/one_time_password.html", user=user, password=one_time,
                           is_new=True,
                           two_factor_required=user.role in roles.TWO_FACTOR_REQUIRED)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
def edit_user(user_id: int):
    """Change a staff account's name, role and areas."""
    user = operations.get_user(user_id)
    form = forms.EditUserForm(obj=user)
    if request.method == "GET":
        form.fill_areas(user)
    if not form.validate_on_submit():
        return render_template("accounts/user_form.html", form=form, user=user)

    try:
        operations.update_user(user, form.role.data, form.full_name.data, form.areas(),
                               actor=_me())
    except BadInput as error:
        _show_error(form, error)
        return render_template("accounts/user_form.html", form=form, user=user)
    flash(_("The account of %(email)s has been saved.", email=user.email), "success")
    return redirect(url_for("accounts.users"))


@bp.post("/staff/<int:user_id>/deactivate")
@requires("users.manage")
def deactivate_user(user_id: int):
    """Stop an account from signing in and end its sessions."""
    user = operations.get_user(user_id)
    operations.set_active(user, False, actor=_me())
    flash(_("The account of %(email)s has been deactivated.", email=user.email), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))


@bp.post("/staff/<int:user_id>/activate")
@requires("users.manage")
def activate_user(user_id: int):
    """Let a deactivated account sign in again."""
    user = operations.get_user(user_id)
    operations.set_active(user, True, actor=_me())
    flash(_("The account of %(email)s has been activated.", email=user.email), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))


@bp.post("/staff/<int:user_id>/reset-password")
@requires("users.manage")
def reset_password(user_id: int):
    """Issue a one-time password and show it once."""
    user = operations.get_user(user_id)
    one_time = operations.reset_password(user)
    return render_template("accounts/one_time_password.html", user=user,
                           password=one_time, is_new=False)


@bp.post("/staff/<int:user_id>/reset-two-factor")
@requires("users.manage")
def reset_two_factor(user_id: int):
    """Forget an account's authenticator, so that its owner enrols again."""
    user = operations.get_user(user_id)
    operations.reset_two_factor(user)
    flash(_("Two-factor sign-in of %(email)s has been reset.", email=user.email), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))


@bp.post("/staff/<int:user_id>/sign-out")
@requires("users.manage")
def sign_out_user(user_id: int):
    """End every session of an account."""
    user = operations.get_user(user_id)
    operations.force_sign_out(user)
    flash(_("All sessions of %(email)s have been ended.", email=user.email), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))


# Helpers


def _me():
    # Operations keep and compare the user object; the proxy would refer to itself.
    return current_user._get_current_object()


def _continue(step: str | None, default: str = "core.home"):
    if step is not None:
        return redirect(url_for(STEP_ENDPOINTS[step]))
    return redirect(operations.take_next_url() or url_for(default))


def _refused(template: str, form, refusal: operations.SignInRefused):
    if not refusal.throttled:
        return render_template(template, form=form, error=refusal.message)
    keep_changes_on_error()  # the audit row of the refusal must be stored
    return render_template(template, form=form, error=refusal.message), 429


def _show_error(form, error: BadInput) -> None:
    name = "communes" if error.field == "areas" else error.field
    field = getattr(form, name, None) if name else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _setup_page(form):
    secret = operations.enrolment_secret(current_user)
    return render_template("accounts/two_factor_setup.html", form=form, secret=secret,
                           uri=operations.otpauth_uri(current_user, secret),
                           required=current_user.role in roles.TWO_FACTOR_REQUIRED)


def _account_page(language_form=None, disable_form=None):
    language_form = language_form or forms.LanguageForm(
        formdata=None, preferred_lang=current_user.preferred_lang)
    return render_template(
        "accounts/account.html", language_form=language_form,
        disable_form=disable_form or forms.CodeForm(formdata=None),
        role_labels=roles.ROLE_LABELS, area_names=operations.area_names(),
        two_factor_required=current_user.role in roles.TWO_FACTOR_REQUIRED,
    )

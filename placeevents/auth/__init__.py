"""Organisers and the team: sign-in, sessions, roles, invitations, resets and two-factor codes."""

# What each action this domain records reads as in the audit log.
AUDIT_ACTIONS = {
    "team.invite": "Invited a colleague to the team",
    "team.join": "Joined the team",
    "team.role": "Changed a colleague's role",
    "team.deactivate": "Deactivated a colleague's account",
    "team.reactivate": "Reactivated a colleague's account",
    "team.two_factor_reset": "Turned off two-factor sign-in for a colleague",
    "auth.two_factor_refused": "Refused a wrong two-factor code",
    "auth.recovery_code_used": "Signed in with a recovery code",
    "auth.reset_requested": "Asked for a password reset link",
    "auth.password_reset": "Set a new password from a reset link",
    "account.name": "Changed their name",
    "account.password": "Changed their password",
    "account.email_requested": "Asked to change their email address",
    "account.email": "Changed their email address",
    "account.two_factor_on": "Turned on two-factor sign-in",
    "account.two_factor_off": "Turned off two-factor sign-in",
    "account.session_ended": "Ended one of their sessions",
    "account.sessions_ended": "Ended their other sessions",
}

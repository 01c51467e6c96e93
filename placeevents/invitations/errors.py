"""The errors of the invitations domain; each message is fit to show to the person."""


class InvitationError(Exception):
    """A rule of invitations or answers was broken; the message is for the person."""


class AnswersClosed(InvitationError):
    """Answers can no longer be changed (deadline passed, event over or cancelled)."""


class ModeNeeded(InvitationError):
    """A yes to a hybrid event must say whether the person comes in person or online."""

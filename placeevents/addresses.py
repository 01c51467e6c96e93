"""Email addresses as the app compares and stores them."""


def normalise_email(email: str) -> str:
    """Addresses are compared stripped and lower-cased, as the mailing list stores them."""
    return email.strip().lower()

"""Newsletters and learning digests: composed by organisers, sent to the mailing list, archived."""

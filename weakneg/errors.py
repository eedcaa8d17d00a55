"""Errors a user can act on: each message says what is wrong and how to fix it."""


class WeaknegError(Exception):
    """Base class of every error weakneg reports to a user."""


class ConfigError(WeaknegError, ValueError):
    """A run or sweep configuration is invalid."""


class DatasetMissing(WeaknegError, FileNotFoundError):
    """A dataset's files are not where we looked; the message names what to install or where to put them."""


class RunCancelled(WeaknegError):
    """The run was cancelled by a user; finished epochs are kept."""

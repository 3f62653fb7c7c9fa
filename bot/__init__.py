"""Contract-concerns bot: runs the Contract Concerns Management Procedure over email."""

__version__ = "0.1.0"

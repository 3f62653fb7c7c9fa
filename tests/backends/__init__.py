"""Test servers for each mailbox backend, behind one harness the contract tests drive."""

"""The nightly sync between the branch store and the head-office database."""

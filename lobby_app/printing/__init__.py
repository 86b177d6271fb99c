"""Paper: reportlab documents with an embedded CJK font, and sending them to a printer."""

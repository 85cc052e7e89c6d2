"""Ways work arrives or leaves: email (SMTP intake, parsing, threading), telephony."""

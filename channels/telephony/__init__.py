"""The telephony channel (ACT-2): call events in over signed HTTP (`intake`), click-to-dial
out through Asterisk's REST interface (`ari`). Both turn their protocol into calls of
services.activities."""

"""QA recordings: intake from Twilio, processing, encrypted storage, playback and scoring."""

"""Speech for productions: scripts with several voices."""

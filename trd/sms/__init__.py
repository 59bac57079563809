"""SMS: formatting replies, sending them, and the encrypted contact store."""

"""Reading what a person answers: skip phrases, numbers, durations, doses."""

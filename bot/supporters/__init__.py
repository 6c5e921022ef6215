"""What supporters leave with the assistant (newsletter sign-ups, enquiries) and how it is recorded."""

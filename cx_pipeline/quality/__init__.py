"""The quality gate: checks on sources and marts, their thresholds, and their results."""

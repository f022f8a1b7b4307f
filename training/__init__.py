"""Training, augmentation and evaluation of the project's NLI stance cross-encoder."""

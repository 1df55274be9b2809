"""Model families: one `keras.Model` subclass per file."""

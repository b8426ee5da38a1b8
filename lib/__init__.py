"""Convolutional denoising autoencoder for handwritten digits: the library behind the app."""

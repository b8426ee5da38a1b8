"""The Streamlit layer: cached loaders, the shared frame, widgets and plots."""

"""The screens: the main view (main.py, the default screen) and its dialogs."""

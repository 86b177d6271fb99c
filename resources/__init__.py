"""Static resources shipped with the app: icons, fonts, sample files."""

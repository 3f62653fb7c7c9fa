"""The web dashboard: pages in the browser, with sign-in and web security."""

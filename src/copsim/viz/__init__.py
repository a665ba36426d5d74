"""Dashboard support: a per-tab simulation session, a stable network layout, a
plain-words event feed and the Solara components that show them."""

"""infodyn.criticality (see DESIGN.md)."""

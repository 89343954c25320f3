"""SQLAlchemy 2.x models, repositories and the unit of work (the only code that speaks SQL)."""

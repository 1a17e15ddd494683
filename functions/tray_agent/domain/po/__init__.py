"""Purchase orders: parsing now; catalog validation and the pipeline build on it."""

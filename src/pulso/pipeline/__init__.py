"""Pipeline: bronze -> silver -> gold jobs, the job runner and the scheduler."""

# Helper functions of the workflow (no rules here).
from surrogate_study.config import ConfigError, resolve_config


def run_names():
    """Names of the single training runs in config['runs']."""
    return list(config["runs"])


def run_metrics():
    """metrics.json of every configured run."""
    return expand("results/runs/{run}/metrics.json", run=run_names())


def resolved_run_config(wildcards):
    """The run's config merged onto the package defaults; a bad one stops the workflow before any job."""
    return resolve_config(config["runs"][wildcards.run])


# Validate every run config when the workflow is parsed, before any job starts.
for _name in run_names():
    try:
        resolve_config(config["runs"][_name])
    except ConfigError as error:
        raise ValueError(f"runs.{_name}: {error}") from None

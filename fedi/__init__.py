"""dEMiSA: a federated discussion server for municipalities."""

__version__ = "0.1.0"
SOFTWARE_NAME = "demisa"

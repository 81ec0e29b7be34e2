"""indikera: publish quality indicators to Vården i siffror, 1177.se and open data."""

__version__ = "0.1.0"

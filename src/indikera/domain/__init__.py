"""The pure model: indicators, organisations, periods, measurements and the contract's rules.

Nothing in this package does I/O or imports a framework; everything else depends on it.
"""

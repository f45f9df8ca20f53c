"""autoflow: DevOps workflows as formal statecharts and Petri nets.

Verify them (``autoflow check``), run them against event traces in virtual time
(``autoflow simulate``), draw them (``autoflow render``) and run them durably
(``autoflow serve``).
"""

__version__ = "0.1.0"

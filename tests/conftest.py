import sys
from pathlib import Path

# make tests/*_helpers.py importable without turning tests/ into a package
sys.path.insert(0, str(Path(__file__).resolve().parent))

"""Text extraction adapters: the text inside uploaded files, read defensively."""

from infrastructure.extraction.extractor import SafeTextExtractor
from infrastructure.extraction.limits import ExtractionLimits

__all__ = ["ExtractionLimits", "SafeTextExtractor"]

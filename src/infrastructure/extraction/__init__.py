"""Text extraction adapters: the text inside uploaded files, read defensively."""

from infrastructure.extraction.extractor import SafeTextExtractor
from infrastructure.extraction.limits import ExtractionLimits
from infrastructure.extraction.workers import ProcessLimits, ProcessTextExtractor

__all__ = ["ExtractionLimits", "ProcessLimits", "ProcessTextExtractor", "SafeTextExtractor"]

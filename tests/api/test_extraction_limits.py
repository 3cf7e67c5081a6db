"""An upload whose text costs more to read than one file may is a 422 `extraction_limit`
problem naming the limit, and leaves nothing behind (issue #9, item 9). The container's real
extractor reads each file in a child process; the limits are scaled down per test."""

from __future__ import annotations

from dependency_injector import providers

from infrastructure.extraction import ExtractionLimits, ProcessLimits, ProcessTextExtractor
from tests.api.conftest import Api, assert_problem, blob_keys, store_state, upload
from tests.support.pdf import pdf_with_pages

_LINES = "\n".join(f"line {j} of a page with quite a few words on it" for j in range(40))


def use_extractor(api: Api, extractor: ProcessTextExtractor) -> None:
    api.container.extractor.override(providers.Object(extractor))
    api.container.document_uploads.reset()  # built again with the extractor above


async def test_the_container_reads_files_in_child_processes(api: Api) -> None:
    assert isinstance(api.container.extractor(), ProcessTextExtractor)

    response = await upload(api, api.member, "two.pdf", pdf_with_pages("alpha", "beta"))

    assert response.status_code == 201, response.text


async def test_a_pdf_over_the_page_cap_is_a_422_naming_pages_and_stores_nothing(
    api: Api,
) -> None:
    extractor = ProcessTextExtractor(ExtractionLimits(max_pdf_pages=2), ProcessLimits())
    use_extractor(api, extractor)
    before = (await store_state(api.container), await blob_keys(api.container))

    try:
        response = await upload(api, api.member, "long.pdf", pdf_with_pages("a", "b", "c"))
    finally:
        extractor.close()

    body = assert_problem(response, 422)
    assert body["code"] == "extraction_limit"
    assert "limit on pages" in body["detail"]
    assert body["errors"][0]["field"] == "file"
    assert (await store_state(api.container), await blob_keys(api.container)) == before


async def test_a_pdf_over_the_cpu_time_limit_is_a_422_naming_cpu_time(api: Api) -> None:
    extractor = ProcessTextExtractor(ExtractionLimits(), ProcessLimits(cpu_seconds=0.2))
    use_extractor(api, extractor)

    try:
        response = await upload(api, api.member, "slow.pdf", pdf_with_pages(*[_LINES] * 400))
    finally:
        extractor.close()

    body = assert_problem(response, 422)
    assert body["code"] == "extraction_limit"
    assert "CPU time" in body["detail"]

"""The signed-in pages' commands and downloads: the existing REST APIs, called in process through the app itself
(``httpx.ASGITransport``) with the session's bearer token, so every check, refusal and event is the API's own."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Request


async def call(request: Request, method: str, path: str, token: str, *, json: Any = None,
               params: Any = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}", "accept": "application/json, application/problem+json, */*"}
    if request.headers.get("x-correlation-id"):  # one correlation id from the page's request to the events
        headers["x-correlation-id"] = request.headers["x-correlation-id"]
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://web.invalid") as client:
        return await client.request(method, path, json=json, params=params, headers=headers)


def refusals(response: httpx.Response, fields: dict[str, str]) -> list[dict[str, str | None]]:
    """The API's problem+json refusal as GOV.UK error summary entries: each problem the API names a field of, linked
    to that field's input (``fields``: the API's field name -> the input's id), the others unlinked."""
    try:
        problem = response.json()
    except ValueError:
        return [{"field": None, "message": f"The service refused the request ({response.status_code})."}]
    entries: list[dict[str, str | None]] = []
    for item in problem.get("errors") or []:
        name = str(item.get("field") or item.get("loc") or "")
        target = next((input_id for api_name, input_id in fields.items()
                       if name == api_name or name.endswith(f".{api_name}") or name.startswith(f"{api_name}.")), None)
        message = item.get("message") or item.get("msg") or problem.get("detail")
        entries.append({"field": target, "message": str(message)})
    if not entries:
        entries.append({"field": None, "message": str(problem.get("detail") or problem.get("title")
                                                      or f"The service refused the request ({response.status_code}).")})
    return entries

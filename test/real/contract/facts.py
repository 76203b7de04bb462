"""Facts of the real SkyPilot that the contract test cannot observe cheaply with a live call,
read from the real code at test time (one Python start-up), so they can never be a constant
someone typed:

- the JSON fields (and their JSON types) of the records the CLI prints: StatusResponse (sky
  status -o json, minus handle and credentials), ClusterJobRecord (sky queue -o json);
- the CLI's own constants: how many managed jobs `sky jobs queue` shows, how many log lines
  `sky logs` / `sky jobs logs` show by default;
- wordings no cloud-less server can make the CLI print (a request that was really cancelled);
- that the log tails are retried on transient errors (a dropped stream), and how often;
- the CLI's grammar: every command's options and arguments, with required-ness.

python3 facts.py  ->  one JSON object on stdout.
"""
import enum
import inspect
import json
import re
import typing

import click

from sky.client import sdk
from sky.client.cli import command
from sky.jobs.client import sdk as jobs_sdk
from sky.schemas.api import responses
from sky.server import rest


def json_types(annotation):
    """The JSON types a pydantic field of this annotation dumps to."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        out = set()
        for arg in typing.get_args(annotation):
            out |= json_types(arg)
        return out
    if annotation is type(None):
        return {'null'}
    if annotation is typing.Any:
        return {'string', 'number', 'boolean', 'object', 'array', 'null'}
    if annotation is bool:
        return {'boolean'}
    if annotation in (int, float):
        return {'number'}
    if annotation is str:
        return {'string'}
    if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
        return {'string'}
    if origin in (dict, typing.Dict) or annotation in (dict, typing.Dict):
        return {'object'}
    if origin in (list, typing.List, tuple) or annotation in (list, typing.List):
        return {'array'}
    return {'object'}


def fields(model, exclude=()):
    return {
        name: sorted(json_types(f.annotation))
        for name, f in model.model_fields.items()
        if name not in exclude
    }


def grammar():
    out = {}

    def walk(cmd, path):
        if isinstance(cmd, click.MultiCommand):
            for name, sub in cmd.commands.items():
                walk(sub, path + [name])
        entries = []
        for p in cmd.params:
            if isinstance(p, click.Argument):
                entries.append({'arg': p.name, 'nargs': p.nargs,
                                'required': bool(p.required)})
            else:
                entries.append({'opts': list(p.opts),
                                'secondary': list(p.secondary_opts)})
        out[' '.join(path)] = entries

    walk(command.cli, [])
    return out


def source_line(func, pattern):
    src = inspect.getsource(func)
    m = re.search(pattern, src)
    return m.group(0) if m else None


def retried(func):
    """Whether a function's definition carries @rest.retry_transient_errors()."""
    return '@rest.retry_transient_errors()' in inspect.getsource(func)


print(json.dumps({
    'status_fields': fields(responses.StatusResponse, exclude=('handle', 'credentials')),
    'cluster_job_fields': fields(responses.ClusterJobRecord),
    'num_managed_jobs_to_show': command._NUM_MANAGED_JOBS_TO_SHOW,
    'default_tail_lines': command._DEFAULT_TAIL_LINES,
    'cancelled_one_request': source_line(command.api_cancel.callback, r"Cancelled 1 request: \{[^}]*\}"),
    'tail_logs_retried': retried(sdk.tail_logs) and retried(jobs_sdk.tail_logs),
    'transient_retries': inspect.signature(rest.retry_transient_errors).parameters['max_retries'].default,
    'grammar': grammar(),
}))

"""Run CDK-synthesized state machines in moto's Step Functions interpreter, Lambda tasks in-process.

moto (``mock_aws(config={"stepfunctions": {"execute_state_machine": True}})``) interprets ASL,
but its Lambda backend needs Docker to run a function. ``LocalStepFunctions`` swaps the one point
where the interpreter invokes Lambda for a dispatch to plain Python handlers, so the state machine
CDK synthesizes (Retry, Catch, Choice, ``.waitForTaskToken``) runs against our real handler code::

    template = Template.from_stack(stack).to_json()
    definition = definition_from_template(template, function_names={"Classify1A2B": "po-classify"})
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        with LocalStepFunctions({"po-classify": classify.handler}) as sfn:
            arn = sfn.create_state_machine("po-pipeline", definition)
            result = sfn.run(arn, {"order": "..."})

Patched (only while the context is entered, restored on exit):

- ``lambda_eval_utils._invoke_lambda_function``: both ``arn:aws:states:::lambda:invoke[...]`` and a
  bare function ARN resource end there; we call the handler and answer like the Lambda Invoke API,
  an exception becoming ``FunctionError`` + ``{"errorType": <class name>, ...}`` as real Lambda does.
- ``retrier_decl.time`` and ``WaitFunction._wait_interval``: Retry intervals and Wait states really
  sleep in moto; they are scaled by ``time_scale`` (0 by default) and recorded.
- ``StateTaskServiceCallback._eval_wait_for_task_token``: wrapped to know which task tokens an
  execution is blocked on, so ``run`` can return as soon as the execution pauses on one.
- ``StepFunctionResponse.send_task_failure``: moto 5.2.5 drops ``cause``; ours passes it on.
- ``StepFunctionResponse.send_task_success``: refuses an output past 256 KiB, as Step Functions does.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from moto.core.config import default_user_config
from moto.core.responses import EmptyResult
from moto.stepfunctions.exceptions import ValidationException
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.responses import StepFunctionResponse

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import HistoryEventTypeDef

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"  # moto's default account
DEFAULT_ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/local-state-machine"

STATE_DATA_LIMIT_BYTES = 256 * 1024  # Step Functions' limit on a state's input and output
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})

Handler = Callable[[Any, Any], Any]
NameResolver = Mapping[str, str] | Callable[[str], str]


class UnresolvableTemplateError(ValueError):
    """The template uses an intrinsic or references a resource we cannot turn into a literal."""


class ExecutionTimeoutError(TimeoutError):
    """The execution neither finished nor paused on a task token within the wait budget."""


def lambda_function_arn(name: str, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def function_name_from_reference(reference: str) -> str:
    """``name``, ``name:alias``, ``123:function:name`` or a full (qualified) ARN -> ``name``."""
    parts = reference.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return parts[0]


# --------------------------------------------------------------------------------------------------
# CloudFormation template -> concrete ASL
# --------------------------------------------------------------------------------------------------


def definition_from_template(
    template: Mapping[str, Any],
    state_machine_logical_id: str | None = None,
    function_names: NameResolver | None = None,
    *,
    region: str = DEFAULT_REGION,
    account: str = DEFAULT_ACCOUNT,
) -> dict[str, Any]:
    """The ASL of a state machine in a synthesized template, intrinsics resolved to literals.

    ``function_names`` maps a resource's logical id (any resource the definition references, not
    only functions) to its physical name: a callable answers for every id; for ids a dict lacks,
    a literal ``FunctionName``/``TableName``/... property is used, else the logical id itself.
    ``state_machine_logical_id`` may be omitted when the template holds exactly one state machine.
    """
    resources: Mapping[str, Any] = template.get("Resources", {})
    logical_id = state_machine_logical_id or _only_state_machine(resources)
    try:
        properties = resources[logical_id]["Properties"]
    except KeyError as missing:
        raise UnresolvableTemplateError(f"no state machine {logical_id!r} in the template") from missing
    resolver = _IntrinsicResolver(resources, function_names, region=region, account=account)
    if "Definition" in properties:
        definition_text = json.dumps(resolver.resolve(properties["Definition"]))
    else:
        resolved = resolver.resolve(properties["DefinitionString"])
        if not isinstance(resolved, str):
            raise UnresolvableTemplateError("DefinitionString did not resolve to a string")
        definition_text = resolved
    substitutions = resolver.resolve(properties.get("DefinitionSubstitutions", {}))
    for key, value in substitutions.items():
        definition_text = definition_text.replace("${" + key + "}", str(value))
    definition: dict[str, Any] = json.loads(definition_text)
    return definition


def cdk_logical_id(construct: Any) -> str:
    """The logical id CDK gives an L2 construct's resource (e.g. ``Classify5848C28F``).

    For ``function_names``: ``{cdk_logical_id(classify_fn): "po-classify"}``.
    """
    import aws_cdk

    stack = aws_cdk.Stack.of(construct)
    return str(stack.resolve(stack.get_logical_id(construct.node.default_child)))


def _only_state_machine(resources: Mapping[str, Any]) -> str:
    machines = [
        key for key, res in resources.items() if res.get("Type") == "AWS::StepFunctions::StateMachine"
    ]
    if len(machines) != 1:
        raise UnresolvableTemplateError(
            f"pass state_machine_logical_id: the template holds {len(machines)} state machines {machines}"
        )
    return machines[0]


# Property holding the physical name, per resource type, when the template sets it literally.
_NAME_PROPERTIES: dict[str, str] = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Events::EventBus": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SecretsManager::Secret": "Name",
}


class _IntrinsicResolver:
    def __init__(
        self,
        resources: Mapping[str, Any],
        names: NameResolver | None,
        *,
        region: str,
        account: str,
    ) -> None:
        self._resources = resources
        self._names = names
        self._region = region
        self._account = account

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            intrinsics: dict[str, Callable[[Any], Any]] = {
                "Ref": self._ref,
                "Fn::GetAtt": self._get_att_argument,
                "Fn::Join": self._join,
                "Fn::Sub": self._sub,
                "Fn::Select": self._select,
            }
            if key in intrinsics:
                return intrinsics[key](argument)
            if key.startswith("Fn::"):
                raise UnresolvableTemplateError(f"intrinsic {key} is not supported: {node}")
        return {key: self.resolve(value) for key, value in node.items()}

    def _get_att_argument(self, argument: str | list[str]) -> str:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return self._get_att(logical_id, attribute)

    def _join(self, argument: list[Any]) -> str:
        separator, items = argument
        return str(separator).join(str(item) for item in self.resolve(items))

    def _select(self, argument: list[Any]) -> Any:
        index, items = self.resolve(argument)
        return items[int(index)]

    def physical_name(self, logical_id: str) -> str:
        if isinstance(self._names, Mapping) and logical_id in self._names:
            return self._names[logical_id]
        if callable(self._names):
            return self._names(logical_id)
        resource = self._resource(logical_id)
        name = resource.get("Properties", {}).get(_NAME_PROPERTIES.get(resource.get("Type", ""), ""))
        return name if isinstance(name, str) else logical_id

    def _resource(self, logical_id: str) -> Mapping[str, Any]:
        try:
            resource: Mapping[str, Any] = self._resources[logical_id]
        except KeyError as missing:
            raise UnresolvableTemplateError(f"no resource {logical_id!r} in the template") from missing
        return resource

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": self._region,
            "AWS::AccountId": self._account,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "local",
            "AWS::NoValue": "",
        }
        if name in pseudo:
            return pseudo[name]
        kind = self._resource(name).get("Type")
        physical = self.physical_name(name)
        # Ref answers the ARN or URL for these types, the name for the others.
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{self._region}:{self._account}:{physical}"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self._region}.amazonaws.com/{self._account}/{physical}"
        if kind == "AWS::StepFunctions::StateMachine":
            return f"arn:aws:states:{self._region}:{self._account}:stateMachine:{physical}"
        return physical

    def _get_att(self, logical_id: str, attribute: str) -> str:
        kind = self._resource(logical_id).get("Type")
        physical = self.physical_name(logical_id)
        region, account = self._region, self._account
        arns = {
            "AWS::Lambda::Function": lambda_function_arn(physical, region, account),
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{physical}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{physical}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{physical}",
            "AWS::SNS::Topic": f"arn:aws:sns:{region}:{account}:{physical}",
            "AWS::Events::EventBus": f"arn:aws:events:{region}:{account}:event-bus/{physical}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{region}:{account}:stateMachine:{physical}",
            "AWS::IAM::Role": f"arn:aws:iam::{account}:role/{physical}",
        }
        if attribute in {"Arn", "TopicArn"} and kind in arns:
            return arns[kind]
        if attribute in {"Name", "QueueName", "TopicName"}:
            return physical
        if attribute == "QueueUrl" and kind == "AWS::SQS::Queue":
            return self._ref(logical_id)
        raise UnresolvableTemplateError(f"Fn::GetAtt [{logical_id}, {attribute}] ({kind}) is not supported")

    def _sub(self, argument: str | list[Any]) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        resolved_variables = {key: self.resolve(value) for key, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in resolved_variables:
                return str(resolved_variables[expression])
            if "." in expression:
                logical_id, attribute = expression.split(".", 1)
                return self._get_att(logical_id, attribute)
            return self._ref(expression)

        return re.sub(r"\$\{([^}]+)\}", replace, text)


# --------------------------------------------------------------------------------------------------
# Execution results and the Lambda context handed to handlers
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutionResult:
    execution_arn: str
    status: str  # RUNNING (only when paused on a task token), SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    output: Any = None
    error: str | None = None
    cause: str | None = None
    waiting_task_tokens: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def paused(self) -> bool:
        """Blocked on ``.waitForTaskToken`` until ``send_task_success``/``send_task_failure``."""
        return self.status == "RUNNING" and bool(self.waiting_task_tokens)

    @property
    def task_token(self) -> str:
        """The one token the execution waits on (most pipelines pause on one task at a time)."""
        if len(self.waiting_task_tokens) != 1:
            raise ValueError(f"expected one waiting task token, found {len(self.waiting_task_tokens)}")
        return self.waiting_task_tokens[0]


@dataclass(frozen=True)
class Invocation:
    """One dispatched Lambda call, kept in ``LocalStepFunctions.invocations`` for assertions."""

    function_name: str
    event: Any
    error_type: str | None  # None when the handler returned


@dataclass
class LocalLambdaContext:
    """The attributes of the Lambda context object our handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    timeout_s: float = 900.0
    started_at: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started_at)) * 1000))


def lambda_error_payload(
    error_type: str, message: str, error: BaseException | None = None, request_id: str = ""
) -> dict[str, Any]:
    """What the Python Lambda runtime answers for an unhandled exception."""
    # Like the runtime: the handler's frames, not the dispatcher's.
    stack = traceback.format_tb(error.__traceback__.tb_next) if error and error.__traceback__ else []
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack}


# --------------------------------------------------------------------------------------------------
# The moto patch
# --------------------------------------------------------------------------------------------------

_active_lock = threading.Lock()
_active: LocalStepFunctions | None = None


class _ScaledSleep:
    """Stands in for the ``time`` module inside moto's retrier: sleeps scaled, records the ask."""

    def __init__(self, owner: LocalStepFunctions) -> None:
        self._owner = owner

    def sleep(self, seconds: float) -> None:
        self._owner.retry_delays.append(seconds)
        if seconds > 0 and self._owner.time_scale > 0:
            time.sleep(seconds * self._owner.time_scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class LocalStepFunctions:
    """Runs ASL in moto with Lambda tasks dispatched in-process to ``handlers``.

    ``handlers`` maps a Lambda function name (or full ARN) to ``handler(event, context)``.
    The caller owns ``mock_aws(config={"stepfunctions": {"execute_state_machine": True}})``; enter
    this inside it. One instance may be entered at a time (the patch is process-wide). On exit,
    executions it started that are still running are stopped (ABORTED; FAILED with States.Timeout
    when paused on a task token, since moto lets the interrupted wait's error win over the stop).
    ``time_scale`` multiplies Retry intervals and Wait state durations (0: do not sleep at all);
    TimeoutSeconds/HeartbeatSeconds stay real seconds.
    ``quiet_interpreter_logs`` silences moto's ERROR log of every (even retried or caught) failure.
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        region: str = DEFAULT_REGION,
        time_scale: float = 0.0,
        poll_interval_s: float = 0.005,
        quiet_interpreter_logs: bool = True,
    ) -> None:
        self._handlers = {function_name_from_reference(key): value for key, value in handlers.items()}
        self.region = region
        self.time_scale = time_scale
        self.poll_interval_s = poll_interval_s
        self.invocations: list[Invocation] = []
        self.retry_delays: list[float] = []  # seconds moto asked to sleep between attempts, unscaled
        self.wait_state_delays: list[float] = []
        self._waiting: dict[str, dict[str, Any]] = {}  # execution ARN -> task token -> callback endpoint
        self._waiting_lock = threading.Lock()
        self._quiet_interpreter_logs = quiet_interpreter_logs
        self._restore: list[Callable[[], None]] = []
        self._started_executions: list[str] = []
        self._client: SFNClient | None = None

    # -- context management ---------------------------------------------------------------------

    def __enter__(self) -> LocalStepFunctions:
        global _active  # noqa: PLW0603 - the patch is process-wide, so is the guard
        if not default_user_config.get("stepfunctions", {}).get("execute_state_machine"):
            raise RuntimeError(
                'enter inside mock_aws(config={"stepfunctions": {"execute_state_machine": True}})'
            )
        with _active_lock:
            if _active is not None:
                raise RuntimeError("another LocalStepFunctions is active; moto's patch is process-wide")
            _active = self
        try:
            self._install()
        except BaseException:
            self.__exit__()
            raise
        self._client = boto3.client("stepfunctions", region_name=self.region)
        return self

    def __exit__(self, *exc: object) -> None:
        global _active  # noqa: PLW0603
        if self._client is not None:
            self._abort_running_executions()
        while self._restore:
            self._restore.pop()()
        with _active_lock:
            if _active is self:
                _active = None

    def _abort_running_executions(self) -> None:
        # A worker thread left paused or sleeping would wake after the patch (and maybe the caller's
        # mock_aws) is gone, then invoke Lambda through moto's Docker backend or real AWS: stop it.
        running = [
            execution_arn
            for execution_arn in self._started_executions
            if self.client.describe_execution(executionArn=execution_arn)["status"] == "RUNNING"
        ]
        for execution_arn in running:
            self.client.stop_execution(executionArn=execution_arn, cause="LocalStepFunctions exited")
            # Stopping does not wake a task blocked on its token; interrupting the wait does.
            with self._waiting_lock:
                endpoints = list(self._waiting.get(execution_arn, {}).values())
            for endpoint in endpoints:
                endpoint.interrupt_all()
        deadline = time.monotonic() + 2  # best effort: a handler still running cannot be interrupted
        for execution_arn in running:
            while time.monotonic() < deadline:
                status = self.client.describe_execution(executionArn=execution_arn)["status"]
                if status in TERMINAL_STATUSES:
                    break
                time.sleep(self.poll_interval_s)

    def _patch(self, owner: Any, attribute: str, replacement: Any) -> None:
        original = owner.__dict__[attribute] if isinstance(owner, type) else getattr(owner, attribute)
        setattr(owner, attribute, replacement)
        self._restore.append(lambda: setattr(owner, attribute, original))

    def _install(self) -> None:
        local = self
        if self._quiet_interpreter_logs:
            # moto logs every state failure at ERROR with the state's whole repr, even the ones a
            # Retry or Catch handles; they would drown the demo's output.
            interpreter_logger = logging.getLogger("moto.stepfunctions.parser")
            previous_level = interpreter_logger.level
            interpreter_logger.setLevel(logging.CRITICAL)  # setLevel, not .level=: it clears the cache
            self._restore.append(lambda: interpreter_logger.setLevel(previous_level))
        self._patch(lambda_eval_utils, "_invoke_lambda_function", self._invoke_lambda_function)
        self._patch(retrier_decl, "time", _ScaledSleep(self))

        def scaled_wait_interval(_function: Any, env: Any, wait_seconds: int) -> None:
            local.wait_state_delays.append(wait_seconds)
            if wait_seconds > 0:
                # program_state_event is set when the execution stops, which ends the wait early.
                env.program_state_event.wait(wait_seconds * local.time_scale)

        self._patch(wait_function.WaitFunction, "_wait_interval", scaled_wait_interval)

        callback_class = state_task_service_callback.StateTaskServiceCallback
        original_wait = callback_class.__dict__["_eval_wait_for_task_token"]

        def tracked_wait_for_task_token(task: Any, env: Any, **kwargs: Any) -> Any:
            execution_arn = env.states.context_object.context_object_data["Execution"]["Id"]
            endpoint = kwargs["callback_endpoint"]
            with local._waiting_lock:
                local._waiting.setdefault(execution_arn, {})[endpoint.callback_id] = endpoint
            try:
                return original_wait(task, env=env, **kwargs)
            finally:
                with local._waiting_lock:
                    local._waiting.get(execution_arn, {}).pop(endpoint.callback_id, None)

        self._patch(callback_class, "_eval_wait_for_task_token", tracked_wait_for_task_token)

        def send_task_failure_keeping_cause(response: Any) -> EmptyResult:
            # moto 5.2.5's handler drops the request's `cause`; the backend accepts it.
            response.stepfunction_backend.send_task_failure(
                response._get_param("taskToken"),
                error=response._get_param("error"),
                cause=response._get_param("cause"),
            )
            return EmptyResult()

        self._patch(StepFunctionResponse, "send_task_failure", send_task_failure_keeping_cause)

        original_send_task_success = StepFunctionResponse.__dict__["send_task_success"]

        def send_task_success_within_limit(response: Any) -> Any:
            # SendTaskSuccess's output is limited to 256 KiB (the state data limit); moto takes any.
            output = response._get_param("output") or ""
            if len(output.encode()) > STATE_DATA_LIMIT_BYTES:
                raise ValidationException(
                    f"1 validation error detected: Value at 'output' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {STATE_DATA_LIMIT_BYTES} "
                    f"(it is {len(output.encode())} bytes)"
                )
            return original_send_task_success(response)

        self._patch(StepFunctionResponse, "send_task_success", send_task_success_within_limit)

    # -- Lambda dispatch (runs on moto's execution worker thread) -------------------------------

    def _invoke_lambda_function(
        self, parameters: dict[str, Any], region: str, state_credentials: Any
    ) -> dict[str, Any]:
        reference = str(parameters["FunctionName"])
        name = function_name_from_reference(reference)
        handler = self._handlers.get(name)
        if handler is None:
            # Real Lambda answers ResourceNotFoundException; here it means a handler is missing: say which.
            return self._error_response(
                "Lambda.ResourceNotFoundException",
                f"no local handler for {reference!r}; known: {sorted(self._handlers)}",
                name,
                event=None,
            )
        raw_payload = parameters.get("Payload")
        event = json.loads(raw_payload) if raw_payload else {}
        input_bytes = len(json.dumps(event, separators=(",", ":")).encode())
        if input_bytes > STATE_DATA_LIMIT_BYTES:
            # A state's input (e.g. a task's result merged by ResultPath) is held to 256 KiB too.
            message = f"the state input is {input_bytes} bytes, the limit is 262144"
            return self._error_response("States.DataLimitExceeded", message, name, event)
        context = LocalLambdaContext(
            function_name=name, invoked_function_arn=lambda_function_arn(name, region)
        )
        try:
            result = handler(event, context)
        except Exception as error:  # every handler exception is a FunctionError, as in Lambda
            return self._error_response(type(error).__name__, str(error), name, event, error)
        try:
            text = json.dumps(result)  # the Lambda runtime serializes the return value
            payload = json.loads(text)
        except (TypeError, ValueError) as error:
            return self._error_response("Runtime.MarshalError", str(error), name, event, error)
        if len(text.encode()) > STATE_DATA_LIMIT_BYTES:
            # Step Functions refuses a state's data past 256 KiB; moto does not check it, we do.
            message = f"the state/result returned is {len(text.encode())} bytes, the limit is 262144"
            return self._error_response("States.DataLimitExceeded", message, name, event)
        self.invocations.append(Invocation(function_name=name, event=event, error_type=None))
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}

    def _error_response(
        self, error_type: str, message: str, name: str, event: Any, error: BaseException | None = None
    ) -> dict[str, Any]:
        self.invocations.append(Invocation(function_name=name, event=event, error_type=error_type))
        payload = lambda_error_payload(error_type, message, error)
        return {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "ExecutedVersion": "$LATEST",
            "Payload": payload,
        }

    # -- Step Functions API ---------------------------------------------------------------------

    @property
    def client(self) -> SFNClient:
        if self._client is None:
            raise RuntimeError("enter LocalStepFunctions (with ...) before calling it")
        return self._client

    def create_state_machine(
        self, name: str, definition: Mapping[str, Any] | str, role_arn: str = DEFAULT_ROLE_ARN
    ) -> str:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        response = self.client.create_state_machine(name=name, definition=text, roleArn=role_arn)
        return str(response["stateMachineArn"])

    def start(self, state_machine_arn: str, input: Any = None, name: str | None = None) -> str:
        response = self.client.start_execution(
            stateMachineArn=state_machine_arn,
            name=name or f"run-{uuid.uuid4().hex[:12]}",
            input=json.dumps({} if input is None else input),
        )
        self._started_executions.append(response["executionArn"])
        return str(response["executionArn"])

    def run(
        self,
        state_machine_arn: str,
        input: Any = None,
        name: str | None = None,
        timeout_s: float = 30,
    ) -> ExecutionResult:
        """Start an execution and wait until it ends or pauses on a task token."""
        return self.wait_for(self.start(state_machine_arn, input, name), timeout_s=timeout_s)

    def wait_for(self, execution_arn: str, timeout_s: float = 30) -> ExecutionResult:
        """Wait until the execution ends or waits on a task token nobody has answered yet."""
        deadline = time.monotonic() + timeout_s
        while True:
            result = self.describe(execution_arn)
            if result.status in TERMINAL_STATUSES or result.paused:
                return result
            if time.monotonic() > deadline:
                raise ExecutionTimeoutError(f"{execution_arn} still {result.status} after {timeout_s}s")
            time.sleep(self.poll_interval_s)

    def describe(self, execution_arn: str) -> ExecutionResult:
        described = self.client.describe_execution(executionArn=execution_arn)
        output = described.get("output")
        return ExecutionResult(
            execution_arn=execution_arn,
            status=described["status"],
            output=json.loads(output) if output is not None else None,
            error=described.get("error"),
            cause=described.get("cause"),
            waiting_task_tokens=self.waiting_task_tokens(execution_arn),
        )

    def waiting_task_tokens(self, execution_arn: str) -> tuple[str, ...]:
        with self._waiting_lock:
            endpoints = dict(self._waiting.get(execution_arn, {}))
        # An answered endpoint stays registered until the worker thread wakes: skip it.
        return tuple(token for token, endpoint in endpoints.items() if endpoint.get_outcome() is None)

    def history(self, execution_arn: str) -> list[HistoryEventTypeDef]:
        pages = self.client.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        return [event for page in pages for event in page["events"]]

    def state_names_entered(self, execution_arn: str) -> list[str]:
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history(execution_arn)
            if event["type"].endswith("StateEntered")
        ]

    def send_task_success(self, task_token: str, output: Any) -> None:
        self.client.send_task_success(taskToken=task_token, output=json.dumps(output))

    def send_task_failure(self, task_token: str, error: str, cause: str = "") -> None:
        self.client.send_task_failure(taskToken=task_token, error=error, cause=cause)

    def invocations_of(self, function_name: str) -> list[Invocation]:
        return [call for call in self.invocations if call.function_name == function_name]

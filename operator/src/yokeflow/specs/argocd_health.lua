-- ArgoCD health check for yokeflow.io/ProjectRun.
--
-- ArgoCD runs this with the live object bound to `obj` and reads back a table with a `status`
-- (Healthy, Progressing, Degraded, Suspended, Unknown) and a `message`. The mapping:
--   no status yet, or a status for an older spec generation   -> Progressing
--   phase Succeeded                                            -> Healthy
--   phase Failed, Cancelled or BudgetExhausted                 -> Degraded
--   condition Degraded=True while the run goes on              -> Degraded
--   phase Suspended, or spec.suspend set on an unfinished run  -> Suspended
--   phase Pending, Planning, Running or Merging                -> Progressing
--   a phase this check does not know                           -> Unknown
-- The message is the most telling condition's sentence, with the task progress when known.
-- Source of truth: yokeflow/specs/argocd_health.lua; `yokeflow generate` embeds it in
-- examples/argocd/argocd-cm.yaml.

local function find_condition(status, kind)
  if status.conditions == nil then
    return nil
  end
  for _, condition in ipairs(status.conditions) do
    if condition.type == kind then
      return condition
    end
  end
  return nil
end

local function with_progress(status, message)
  if status.progress ~= nil and status.progress ~= "" then
    local counted = "tasks " .. status.progress .. " done"
    if message == nil or message == "" then
      return counted
    end
    return message .. " (" .. counted .. ")"
  end
  if message == nil then
    return ""
  end
  return message
end

local function condition_message(status, kinds, fallback)
  for _, kind in ipairs(kinds) do
    local condition = find_condition(status, kind)
    if condition ~= nil and condition.message ~= nil and condition.message ~= "" then
      return condition.message
    end
  end
  return fallback
end

local health = {}
local status = obj.status
if status == nil or status.phase == nil then
  health.status = "Progressing"
  health.message = "Waiting for the operator to report the run's status."
  return health
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  health.status = "Progressing"
  health.message = "Waiting for the operator to observe the latest spec."
  return health
end

local phase = status.phase
if phase == "Succeeded" then
  health.status = "Healthy"
  health.message = with_progress(status, condition_message(status, {"Ready"}, "The run succeeded."))
  return health
end
if phase == "Failed" or phase == "Cancelled" or phase == "BudgetExhausted" then
  local fallback = "The run ended in phase " .. phase .. "."
  health.status = "Degraded"
  health.message = with_progress(status, condition_message(status, {"Degraded", "BudgetOk", "Ready"}, fallback))
  return health
end

local degraded = find_condition(status, "Degraded")
if degraded ~= nil and degraded.status == "True" then
  health.status = "Degraded"
  health.message = with_progress(status, condition_message(status, {"Degraded"}, "The run is degraded."))
  return health
end

local suspended = obj.spec ~= nil and obj.spec.suspend == true
if phase == "Suspended" or suspended then
  health.status = "Suspended"
  health.message = with_progress(status, condition_message(status, {"Progressing"}, "The run is suspended."))
  return health
end

if phase == "Pending" or phase == "Planning" or phase == "Running" or phase == "Merging" then
  local fallback = "The run is in phase " .. phase .. "."
  -- A pending run's Ready condition says what it waits for; a working run's Progressing says how.
  local kinds = {"Progressing", "Ready", "Planned"}
  if phase == "Pending" then
    kinds = {"Ready", "Planned", "Progressing"}
  end
  health.status = "Progressing"
  health.message = with_progress(status, condition_message(status, kinds, fallback))
  return health
end

health.status = "Unknown"
health.message = "The run reports phase " .. tostring(phase) .. ", which this health check does not know."
return health

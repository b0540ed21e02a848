/*
 * handlers_pods.c: the runtime's pods (Podman): CreatePod, StartPod, StopPod, RemovePod, ListPods, InspectPod.
 * STUB until its owner lands it: answers UNIMPLEMENTED.
 */
#include "services/runtime/runtime_internal.h"

void rt_create_pod(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__CreatePodRequest *in,
                   Berth__V1__PodSummary_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "CreatePod");
	done(NULL, call);
}

void rt_start_pod(Berth__V1__Runtime_Service *svc, const Berth__V1__PodRef *in,
                  Berth__V1__Empty_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "StartPod");
	done(NULL, call);
}

void rt_stop_pod(Berth__V1__Runtime_Service *svc, const Berth__V1__PodRef *in,
                 Berth__V1__Empty_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "StopPod");
	done(NULL, call);
}

void rt_remove_pod(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__RemovePodRequest *in,
                   Berth__V1__Empty_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "RemovePod");
	done(NULL, call);
}

void rt_list_pods(Berth__V1__Runtime_Service *svc,
                  const Berth__V1__ListPodsRequest *in,
                  Berth__V1__ListPodsReply_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "ListPods");
	done(NULL, call);
}

void rt_inspect_pod(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__PodRef *in,
                    Berth__V1__PodSummary_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "InspectPod");
	done(NULL, call);
}

package io.raftcached.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.SynchronousQueue;
import org.junit.jupiter.api.Test;

class ThreadWakeupsTest {
    @Test
    void poolNumbersAreDroppedFromThreadNames() {
        assertEquals("JRaft-FSMCaller-Disruptor", ThreadWakeups.group("JRaft-FSMCaller-Disruptor-0"));
        assertEquals("epollEventLoopGroup", ThreadWakeups.group("epollEventLoopGroup-2-1"));
        assertEquals("mc-worker", ThreadWakeups.group("mc-worker"));
        assertEquals("bolt-netty-client-worker", ThreadWakeups.group("bolt-netty-client-worker-3-2"));
        assertEquals("C2 CompilerThread", ThreadWakeups.group("C2 CompilerThread0"));
        assertEquals("42", ThreadWakeups.group("42"), "a name of digits only stays whole");
    }

    @Test
    void readsVoluntarySwitchesFromAStatusFile() {
        assertEquals(1234, ThreadWakeups.voluntarySwitches("Name:\tjava\nvoluntary_ctxt_switches:\t1234\nnonvoluntary_ctxt_switches:\t9\n"));
        assertThrows(IllegalArgumentException.class, () -> ThreadWakeups.voluntarySwitches("Name:\tjava\n"));
    }

    @Test
    void countsTheHandOffsBetweenTwoThreadsOfThisProcess() throws Exception {
        List<Long> self = List.of(ProcessHandle.current().pid());
        SynchronousQueue<Integer> handOff = new SynchronousQueue<>();
        int handOffs = 200;
        Thread receiver = new Thread(() -> {
            try {
                for (int i = 0; i < handOffs; i++) {
                    handOff.take();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "wakeup-probe-7");
        receiver.start();
        ThreadWakeups.Sample start = ThreadWakeups.sample(self);
        for (int i = 0; i < handOffs; i++) {
            handOff.put(i);
            Thread.sleep(1);   // the receiver goes back to sleep before the next one
        }
        receiver.join(10_000);
        // The ended receiver is gone from /proc: count this thread's own sleeps instead, one per sleep.
        ThreadWakeups.Sample end = ThreadWakeups.sample(self);
        Map<String, Long> byGroup = ThreadWakeups.between(start, end);
        assertNotNull(byGroup);
        assertTrue(ThreadWakeups.total(byGroup) >= handOffs, () -> "at least one wake-up per sleep: " + byGroup);
        String busiest = byGroup.keySet().iterator().next();
        assertEquals(ThreadWakeups.total(byGroup), byGroup.values().stream().mapToLong(Long::longValue).sum());
        assertTrue(byGroup.get(busiest) >= byGroup.values().stream().mapToLong(Long::longValue).max().orElseThrow(), busiest);
        Map<String, Long> byProcess = ThreadWakeups.byProcess(start, end);
        assertEquals(Map.of(Long.toString(self.get(0)), ThreadWakeups.total(byGroup)), byProcess, "one process, keyed by its pid");
    }

    @Test
    void anUnreadableProcessGivesNoSample() {
        assertNull(ThreadWakeups.sample(List.of(Long.MAX_VALUE)));
    }
}

package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.proto.ForwardRequest;
import io.raftcached.proto.ForwardResponse;
import io.raftcached.testing.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A follower's forward window: room is given back exactly once on every way a call can end, and senders wait for it. */
class ForwardSenderTest {
    private static final long TIMEOUT_MILLIS = 200;
    private static final ForwardResponse OK = ForwardResponse.newBuilder().setStatus(ForwardResponse.Status.OK).build();
    private static final ForwardResponse OVERLOADED = ForwardResponse.newBuilder().setStatus(ForwardResponse.Status.OVERLOADED).build();

    /** Calls the sender made, answered (or not) by the test. */
    private record Call(ForwardRequest request, Consumer<ForwardResponse> done) {
    }

    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
    private final InFlightBudget window = new InFlightBudget(100, 10);
    private final ForwardSender sender = new ForwardSender(window, (target, request, timeoutMillis, done) -> calls.add(new Call(request, done)),
            scheduler, TIMEOUT_MILLIS);
    /** Why each failed send failed, as reported. */
    private final List<String> failures = new CopyOnWriteArrayList<>();

    {
        scheduler.setRemoveOnCancelPolicy(true);
    }

    @AfterEach
    void stopScheduler() {
        scheduler.shutdownNow();
    }

    private void send(int sizeBytes) {
        sender.send("leader:1", new byte[sizeBytes], () -> true, failures::add);
    }

    @Test
    void anAnswerOfOkGivesTheRoomBackAndFailsNothing() {
        send(60);
        assertEquals(60, window.heldBytes(), "held while unanswered");
        assertEquals(60, calls.get(0).request().getBatch().size(), "the batch is what is sent");
        calls.get(0).done().accept(OK);
        assertEquals(0, window.heldBytes());
        assertEquals(0, failures.size());
        assertEquals(0, scheduler.getQueue().size(), "the last-resort release is cancelled and removed");
    }

    @Test
    void aRefusalOrAFailedOrTimedOutCallGivesTheRoomBackAndReportsTheFailure() {
        send(30);
        send(30);
        calls.get(0).done().accept(OVERLOADED);
        assertEquals(30, window.heldBytes());
        calls.get(1).done().accept(null);   // what the transport passes on an error or its timeout
        assertEquals(0, window.heldBytes());
        assertEquals(List.of("overloaded", "no_answer"), failures);
    }

    @Test
    void anAnswerThatComesTwiceCountsOnce() {
        send(30);
        send(40);
        calls.get(0).done().accept(OVERLOADED);
        calls.get(0).done().accept(OK);
        calls.get(0).done().accept(null);
        assertEquals(40, window.heldBytes(), "the other batch's room is not given back by a repeated answer");
        assertEquals(1, failures.size(), "one failure reported");
    }

    @Test
    void aCallNeverAnsweredGivesItsRoomBackAfterTwiceTheTimeoutAndALateAnswerChangesNothing() throws Exception {
        send(50);
        send(20);
        calls.get(1).done().accept(OK);
        long started = System.nanoTime();
        Await.until("the last-resort release", Duration.ofSeconds(10), () -> window.heldBytes() == 0);
        long releasedAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(releasedAfterMillis >= 2 * TIMEOUT_MILLIS - 50, "released after " + releasedAfterMillis + " ms");
        send(30);
        calls.get(0).done().accept(OK);
        assertEquals(30, window.heldBytes(), "a late answer does not give back room a second time");
        assertEquals(0, failures.size());
    }

    @Test
    void aLeaderChangeGivesBackTheRoomOfCallsToTheOldLeaderAtOnce() {
        send(60);
        send(40);
        sender.leaderChanged();
        assertEquals(0, window.heldBytes(), "the resend to the new leader does not wait for the old one's calls to time out");
        send(30);
        calls.get(0).done().accept(null);
        assertEquals(30, window.heldBytes(), "the old call's late end gives nothing back a second time");
        assertEquals(1, failures.size(), "its failure is still reported");
    }

    @Test
    void aFullWindowHoldsTheSenderBackUntilAnAnswer() throws Exception {
        send(100);
        Thread second = new Thread(() -> send(50));
        second.start();
        Thread.sleep(50);
        assertEquals(1, calls.size(), "nothing more is sent while the window is full");
        calls.get(0).done().accept(OK);
        second.join(10_000);
        assertEquals(2, calls.size(), "sent once the first was answered");
        assertEquals(50, window.heldBytes());
        assertEquals(0, failures.size());
    }

    @Test
    void aSenderThatWaitsInVainSendsNothingAndReportsTheFailure() {
        send(100);
        sender.send("leader:1", new byte[10], () -> false, failures::add);
        assertEquals(1, calls.size(), "not sent: the leader changed while it waited");
        assertEquals(100, window.heldBytes());
        assertEquals(1, failures.size());
        send(10);   // waits out the timeout
        assertEquals(1, calls.size());
        assertEquals(List.of("no_room", "no_room"), failures);
    }
}

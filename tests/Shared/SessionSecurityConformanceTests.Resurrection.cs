namespace SessionKit.Tests;

public abstract partial class SessionSecurityConformanceTests
{
    // ---- anti-resurrection --------------------------------------------------------------------------------------

    [Fact]
    public async Task Resurrection_DeleteRacingUpdateAndTouch_NeverLeavesALiveSession()
    {
        var manager = Manager(o => o.TouchThreshold = TimeSpan.FromMilliseconds(1));
        var resurrected = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var session = await manager.CreateAsync();
            Time.Advance(TimeSpan.FromMilliseconds(5));
            var delete = Task.Run(async () => await manager.DeleteAsync(session.Id));
            var update = Task.Run(async () => await manager.UpdateAsync(session.Id, new SessionChanges().SetState("late", i)));
            var touch = Task.Run(async () => await manager.GetAsync(session.Id));
            var rawTouch = Task.Run(async () => await Store.TouchAsync(session.Id, Time.GetUtcNow()));
            await Task.WhenAll(delete, update, touch, rawTouch);

            if (await Store.ExistsAsync(session.Id, Time.GetUtcNow()) || (await manager.GetAsync(session.Id)).IsFound)
            {
                resurrected++;
            }
        }

        resurrected.Should().Be(0);
    }

    [Fact]
    public async Task Resurrection_RotationRacingUpdates_NoUpdateIsLostOrResurrectsTheOldSession()
    {
        var manager = Manager(o => o.RotationGracePeriod = TimeSpan.Zero);
        for (var i = 0; i < Iterations / 10; i++)
        {
            var session = await manager.CreateAsync();
            var rotate = Task.Run(async () => await manager.RotateAsync(session.Id));
            var update = Task.Run(async () => await manager.UpdateAsync(session.Id, new SessionChanges().SetState("k", i)));
            await Task.WhenAll(rotate, update);

            var rotated = await rotate;
            if (rotated.IsRotated)
            {
                (await Store.ExistsAsync(session.Id, Time.GetUtcNow())).Should().BeFalse("a rotation with no grace removes the old id");
                if ((await update).IsUpdated)
                {
                    var current = await Store.GetAsync(rotated.Session!.Id, Time.GetUtcNow());
                    current!.State.Should().ContainKey("k", "an update acknowledged before the rotation retired the old id is carried over");
                }
            }
        }
    }

    /// <summary>Gets how many delete-vs-write races run (1,000 by default; slower stores may lower it only with a reason).</summary>
    protected virtual int Iterations => 1000;
}
